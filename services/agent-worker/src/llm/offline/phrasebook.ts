import type { Emotion, ReplyAction } from '@xiaoyue/shared';

/** How she addresses the learner, in Chinese and in Vietnamese. */
export interface Address {
  zh: string;
  vi: string;
}

const VIETNAMESE_ADDRESS: Record<string, string> = {
  师兄: 'sư huynh',
  师姐: 'sư tỷ',
  师弟: 'sư đệ',
  师妹: 'sư muội',
  师父: 'sư phụ',
  师傅: 'sư phụ',
};

export function addressFor(userRole: string): Address {
  return { zh: userRole, vi: VIETNAMESE_ADDRESS[userRole] ?? 'huynh' };
}

/** A word the learner meets in an exchange; quizzes are drawn from these. */
export interface VocabularyItem {
  hanzi: string;
  vi: string;
}

/** One beginner (HSK 1-2) exchange: what the learner says, and how XiaoYue answers. */
export interface PhrasebookEntry {
  id: string;
  /** Chinese, pinyin, Vietnamese or English ways of saying it. */
  triggers: RegExp;
  reply: (to: Address) => { zh: string; vi: string };
  emotion: Emotion;
  action?: ReplyAction;
  vocabulary: VocabularyItem[];
}

const entry = (e: PhrasebookEntry) => e;

export const PHRASEBOOK: PhrasebookEntry[] = [
  // --- greetings and courtesy -------------------------------------------------------------
  entry({
    id: 'greeting',
    triggers: /你好|您好|嗨|哈喽|\bni ?hao\b|xin chào|chào (em|muội|tiểu)|\bhello\b|\bhi\b/i,
    reply: (to) => ({
      zh: `${to.zh}好！今天也来练功吗？`,
      vi: `Chào ${to.vi}! Hôm nay huynh cũng đến luyện công sao?`,
    }),
    emotion: 'happy',
    vocabulary: [
      { hanzi: '你好', vi: 'xin chào' },
      { hanzi: '今天', vi: 'hôm nay' },
    ],
  }),
  entry({
    id: 'good-morning',
    triggers: /早上好|早安|早啊|zao ?shang ?hao|chào buổi sáng|good morning/i,
    reply: (to) => ({ zh: `${to.zh}早！你吃早饭了吗？`, vi: `Chào buổi sáng ${to.vi}! Huynh ăn sáng chưa?` }),
    emotion: 'happy',
    vocabulary: [
      { hanzi: '早上', vi: 'buổi sáng' },
      { hanzi: '早饭', vi: 'bữa sáng' },
    ],
  }),
  entry({
    id: 'good-night',
    triggers: /晚安|wan ?an|chúc ngủ ngon|good ?night/i,
    reply: (to) => ({ zh: `晚安，${to.zh}！明天见。`, vi: `Chúc ${to.vi} ngủ ngon! Mai gặp lại nhé.` }),
    emotion: 'shy',
    vocabulary: [
      { hanzi: '晚安', vi: 'chúc ngủ ngon' },
      { hanzi: '明天', vi: 'ngày mai' },
    ],
  }),
  entry({
    id: 'how-are-you',
    triggers: /你好吗|你怎么样|最近好吗|ni hao ma|khỏe không|how are you/i,
    reply: (to) => ({ zh: `我很好，谢谢${to.zh}！你呢？`, vi: `Muội rất khỏe, cảm ơn ${to.vi}! Còn huynh thì sao?` }),
    emotion: 'happy',
    vocabulary: [
      { hanzi: '很好', vi: 'rất tốt' },
      { hanzi: '谢谢', vi: 'cảm ơn' },
    ],
  }),
  entry({
    id: 'i-am-fine',
    triggers: /我很好|我也很好|还不错|wo hen hao|tôi (rất )?khỏe|i'?m (fine|good)/i,
    reply: (to) => ({
      zh: `太好了！${to.zh}身体好，练剑才有力气。`,
      vi: `Tốt quá! ${to.vi} khỏe thì luyện kiếm mới có sức.`,
    }),
    emotion: 'happy',
    action: 'praise',
    vocabulary: [
      { hanzi: '身体', vi: 'sức khỏe, cơ thể' },
      { hanzi: '力气', vi: 'sức lực' },
    ],
  }),
  entry({
    id: 'thanks',
    triggers: /谢谢|多谢|感谢|xie ?xie|cảm ơn|thank/i,
    reply: (to) => ({
      zh: `不客气！${to.zh}跟我不用这么客气。`,
      vi: `Không có gì! ${to.vi} với muội không cần khách sáo vậy đâu.`,
    }),
    emotion: 'shy',
    vocabulary: [
      { hanzi: '不客气', vi: 'không có gì' },
      { hanzi: '客气', vi: 'khách sáo' },
    ],
  }),
  entry({
    id: 'bye',
    triggers: /再见|拜拜|回头见|zai ?jian|tạm biệt|bye/i,
    reply: (to) => ({
      zh: `${to.zh}再见！明天早点来练功哦。`,
      vi: `Tạm biệt ${to.vi}! Ngày mai đến luyện công sớm nhé.`,
    }),
    emotion: 'concerned',
    vocabulary: [
      { hanzi: '再见', vi: 'tạm biệt' },
      { hanzi: '明天', vi: 'ngày mai' },
    ],
  }),
  // --- getting to know each other -------------------------------------------------------
  entry({
    id: 'her-name',
    triggers: /你叫什么|你的名字|你是谁|ni jiao shen me|em tên (là )?gì|tên (em|muội)|what'?s your name|who are you/i,
    reply: () => ({ zh: '我叫小月，是你的小师妹。', vi: 'Muội tên là Tiểu Nguyệt, là tiểu sư muội của huynh.' }),
    emotion: 'proud',
    vocabulary: [
      { hanzi: '名字', vi: 'tên' },
      { hanzi: '小师妹', vi: 'tiểu sư muội' },
    ],
  }),
  entry({
    id: 'my-name',
    triggers: /我叫|我的名字|wo jiao|tôi tên|tên tôi|my name is/i,
    reply: (to) => ({
      zh: `很高兴认识你，${to.zh}！这个名字真好听。`,
      vi: `Rất vui được làm quen, ${to.vi}! Cái tên này hay thật.`,
    }),
    emotion: 'happy',
    vocabulary: [
      { hanzi: '认识', vi: 'quen biết' },
      { hanzi: '高兴', vi: 'vui mừng' },
    ],
  }),
  entry({
    id: 'age',
    triggers: /你几岁|多大了|你多大|ni ji sui|bao nhiêu tuổi|how old/i,
    reply: () => ({ zh: '我今年十六岁。你呢？', vi: 'Năm nay muội mười sáu tuổi. Còn huynh?' }),
    emotion: 'shy',
    vocabulary: [
      { hanzi: '岁', vi: 'tuổi' },
      { hanzi: '今年', vi: 'năm nay' },
    ],
  }),
  entry({
    id: 'where-from',
    triggers: /哪国人|哪里人|从哪里来|越南|na guo ren|người nước nào|ở đâu đến|where are you from/i,
    reply: (to) => ({
      zh: `${to.zh}是越南人吧？越南很漂亮！`,
      vi: `${to.vi} là người Việt Nam đúng không? Việt Nam đẹp lắm!`,
    }),
    emotion: 'excited',
    vocabulary: [
      { hanzi: '越南', vi: 'Việt Nam' },
      { hanzi: '漂亮', vi: 'đẹp' },
    ],
  }),
  entry({
    id: 'family',
    triggers: /家人|你家|爸爸|妈妈|哥哥|姐姐|弟弟|妹妹|gia đình|family/i,
    reply: () => ({
      zh: '我家有四口人：爸爸、妈妈、哥哥和我。',
      vi: 'Nhà muội có bốn người: bố, mẹ, anh trai và muội.',
    }),
    emotion: 'happy',
    vocabulary: [
      { hanzi: '爸爸', vi: 'bố' },
      { hanzi: '妈妈', vi: 'mẹ' },
      { hanzi: '哥哥', vi: 'anh trai' },
    ],
  }),
  entry({
    id: 'hobby',
    triggers: /爱好|喜欢做什么|你喜欢什么|sở thích|thích làm gì|hobby/i,
    reply: () => ({
      zh: '我喜欢练剑，也喜欢看书。你喜欢什么？',
      vi: 'Muội thích luyện kiếm, cũng thích đọc sách. Huynh thích gì?',
    }),
    emotion: 'excited',
    vocabulary: [
      { hanzi: '喜欢', vi: 'thích' },
      { hanzi: '看书', vi: 'đọc sách' },
    ],
  }),
  // --- everyday life ----------------------------------------------------------------------
  entry({
    id: 'hungry',
    triggers: /饿|吃饭|吃什么|午饭|晚饭|đói|ăn cơm|ăn gì|hungry|\beat\b/i,
    reply: (to) => ({ zh: `${to.zh}饿了吗？我们去吃饺子吧！`, vi: `${to.vi} đói rồi à? Chúng ta đi ăn sủi cảo đi!` }),
    emotion: 'excited',
    vocabulary: [
      { hanzi: '饿', vi: 'đói' },
      { hanzi: '饺子', vi: 'sủi cảo' },
      { hanzi: '吃饭', vi: 'ăn cơm' },
    ],
  }),
  entry({
    id: 'tea',
    triggers: /喝茶|喝水|渴|咖啡|uống trà|uống nước|khát|\bdrink\b|\btea\b/i,
    reply: () => ({ zh: '来，喝杯茶吧。这是师父的绿茶。', vi: 'Nào, uống chén trà đi. Đây là trà xanh của sư phụ.' }),
    emotion: 'neutral',
    vocabulary: [
      { hanzi: '茶', vi: 'trà' },
      { hanzi: '杯', vi: 'cốc, chén (lượng từ)' },
    ],
  }),
  entry({
    id: 'weather',
    triggers: /天气|下雨|很热|很冷|太阳|thời tiết|trời mưa|nóng|lạnh|weather|rain/i,
    reply: () => ({
      zh: '今天天气很好，我们去山上练剑吧！',
      vi: 'Hôm nay trời đẹp lắm, chúng ta lên núi luyện kiếm đi!',
    }),
    emotion: 'excited',
    vocabulary: [
      { hanzi: '天气', vi: 'thời tiết' },
      { hanzi: '山上', vi: 'trên núi' },
    ],
  }),
  entry({
    id: 'time',
    triggers: /几点|现在.*时间|mấy giờ|what time/i,
    reply: () => ({ zh: '现在是上午九点，练功的时间到了！', vi: 'Bây giờ là chín giờ sáng, đến giờ luyện công rồi!' }),
    emotion: 'strict',
    vocabulary: [
      { hanzi: '几点', vi: 'mấy giờ' },
      { hanzi: '上午', vi: 'buổi sáng' },
    ],
  }),
  entry({
    id: 'day',
    triggers: /星期几|今天几号|thứ mấy|ngày mấy|what day/i,
    reply: () => ({
      zh: '今天星期三。每个星期三，师父都教我们内功。',
      vi: 'Hôm nay thứ tư. Thứ tư nào sư phụ cũng dạy chúng ta nội công.',
    }),
    emotion: 'neutral',
    vocabulary: [
      { hanzi: '星期三', vi: 'thứ tư' },
      { hanzi: '内功', vi: 'nội công' },
    ],
  }),
  entry({
    id: 'tired',
    triggers: /累|困|想睡|休息|mệt|buồn ngủ|nghỉ ngơi|tired|sleepy/i,
    reply: (to) => ({
      zh: `${to.zh}累了就休息一下，喝点水。`,
      vi: `${to.vi} mệt thì nghỉ một chút, uống chút nước đi.`,
    }),
    emotion: 'concerned',
    vocabulary: [
      { hanzi: '累', vi: 'mệt' },
      { hanzi: '休息', vi: 'nghỉ ngơi' },
    ],
  }),
  entry({
    id: 'busy',
    triggers: /很忙|忙不忙|你忙|bận|busy/i,
    reply: () => ({
      zh: '我不忙。师父让我陪你学中文。',
      vi: 'Muội không bận. Sư phụ bảo muội học tiếng Trung cùng huynh.',
    }),
    emotion: 'happy',
    vocabulary: [
      { hanzi: '忙', vi: 'bận' },
      { hanzi: '学', vi: 'học' },
    ],
  }),
  // --- learning Chinese ---------------------------------------------------------------------
  entry({
    id: 'learn-chinese',
    triggers: /学中文|学汉语|说中文|中文(很)?难|học tiếng (trung|hoa)|learn chinese|chinese is hard/i,
    reply: (to) => ({
      zh: `${to.zh}，中文不难！每天说一点，就会越来越好。`,
      vi: `${to.vi} à, tiếng Trung không khó đâu! Mỗi ngày nói một chút là sẽ càng ngày càng giỏi.`,
    }),
    emotion: 'proud',
    action: 'encourage',
    vocabulary: [
      { hanzi: '中文', vi: 'tiếng Trung' },
      { hanzi: '每天', vi: 'mỗi ngày' },
    ],
  }),
  entry({
    id: 'dont-understand',
    triggers: /听不懂|不明白|看不懂|什么意思|không hiểu|nghĩa là gì|don'?t understand|what does .* mean/i,
    reply: (to) => ({
      zh: `没关系，${to.zh}，我说慢一点。`,
      vi: `Không sao đâu ${to.vi}, muội sẽ nói chậm hơn một chút.`,
    }),
    emotion: 'concerned',
    action: 'explain',
    vocabulary: [
      { hanzi: '没关系', vi: 'không sao' },
      { hanzi: '慢', vi: 'chậm' },
    ],
  }),
  entry({
    id: 'praise-me',
    triggers: /我(的中文)?(说得)?(怎么样|好不好)|我进步了|tôi (nói )?giỏi không|am i good/i,
    reply: (to) => ({ zh: `${to.zh}进步很大！我为你高兴。`, vi: `${to.vi} tiến bộ nhiều lắm! Muội mừng cho huynh.` }),
    emotion: 'proud',
    action: 'praise',
    vocabulary: [
      { hanzi: '进步', vi: 'tiến bộ' },
      { hanzi: '高兴', vi: 'vui' },
    ],
  }),
  // --- the sect and training -------------------------------------------------------------------
  entry({
    id: 'master',
    triggers: /师父|师傅|sư phụ|master/i,
    reply: () => ({
      zh: '师父在后山打坐，他说今天不要吵他。',
      vi: 'Sư phụ đang ngồi thiền ở núi sau, người nói hôm nay đừng làm phiền người.',
    }),
    emotion: 'teasing',
    vocabulary: [
      { hanzi: '师父', vi: 'sư phụ' },
      { hanzi: '打坐', vi: 'ngồi thiền' },
    ],
  }),
  entry({
    id: 'sword',
    triggers: /练剑|剑法|宝剑|\bjian\b|luyện kiếm|kiếm pháp|sword/i,
    reply: (to) => ({
      zh: `好啊！${to.zh}先做一百次出剑，我帮你数。`,
      vi: `Được thôi! ${to.vi} đâm kiếm một trăm lần trước, muội đếm giúp cho.`,
    }),
    emotion: 'strict',
    vocabulary: [
      { hanzi: '剑', vi: 'kiếm' },
      { hanzi: '一百', vi: 'một trăm' },
    ],
  }),
  entry({
    id: 'inner-power',
    triggers: /内功|内力|气功|nội công|nội lực|qi\b/i,
    reply: () => ({ zh: '练内功要慢慢来，先学会呼吸。', vi: 'Luyện nội công phải từ từ, trước hết học cách hít thở.' }),
    emotion: 'strict',
    action: 'explain',
    vocabulary: [
      { hanzi: '呼吸', vi: 'hít thở' },
      { hanzi: '慢慢', vi: 'từ từ' },
    ],
  }),
  entry({
    id: 'lightness',
    triggers: /轻功|飞|跳得|khinh công|bay|\bfly\b/i,
    reply: () => ({
      zh: '轻功很难学，我练了三年才能上屋顶。',
      vi: 'Khinh công khó học lắm, muội luyện ba năm mới lên được mái nhà.',
    }),
    emotion: 'proud',
    vocabulary: [
      { hanzi: '轻功', vi: 'khinh công' },
      { hanzi: '三年', vi: 'ba năm' },
    ],
  }),
  entry({
    id: 'sect',
    triggers: /门派|门规|江湖|武功|武林|môn phái|giang hồ|võ công|martial/i,
    reply: () => ({
      zh: '我们门派的门规是：每天早起，不说谎，好好学习。',
      vi: 'Môn quy của phái ta là: ngày nào cũng dậy sớm, không nói dối, chăm chỉ học hành.',
    }),
    emotion: 'strict',
    action: 'explain',
    vocabulary: [
      { hanzi: '门派', vi: 'môn phái' },
      { hanzi: '早起', vi: 'dậy sớm' },
    ],
  }),
  entry({
    id: 'fight',
    triggers: /比武|打一架|比一比|切磋|tỷ võ|so tài|đấu|duel|\bfight\b/i,
    reply: (to) => ({
      zh: `比武？${to.zh}小心，我不会让你的！`,
      vi: `Tỷ võ à? ${to.vi} cẩn thận đấy, muội sẽ không nhường đâu!`,
    }),
    emotion: 'teasing',
    vocabulary: [
      { hanzi: '比武', vi: 'tỷ võ' },
      { hanzi: '小心', vi: 'cẩn thận' },
    ],
  }),
  entry({
    id: 'tired-of-training',
    triggers: /不想练|好难|太难了|không muốn luyện|khó quá|too hard/i,
    reply: (to) => ({ zh: `${to.zh}别放弃！我们一起加油。`, vi: `${to.vi} đừng bỏ cuộc! Chúng ta cùng cố gắng nhé.` }),
    emotion: 'concerned',
    action: 'encourage',
    vocabulary: [
      { hanzi: '放弃', vi: 'bỏ cuộc' },
      { hanzi: '加油', vi: 'cố lên' },
    ],
  }),
  entry({
    id: 'mountain',
    triggers: /山上|后山|风景|núi|phong cảnh|mountain/i,
    reply: () => ({
      zh: '后山的风景很美，春天有很多花。',
      vi: 'Phong cảnh núi sau rất đẹp, mùa xuân có rất nhiều hoa.',
    }),
    emotion: 'happy',
    vocabulary: [
      { hanzi: '风景', vi: 'phong cảnh' },
      { hanzi: '春天', vi: 'mùa xuân' },
      { hanzi: '花', vi: 'hoa' },
    ],
  }),
  entry({
    id: 'dream',
    triggers: /梦想|以后想|将来|ước mơ|tương lai|dream/i,
    reply: () => ({
      zh: '我的梦想是做天下第一的女剑客！',
      vi: 'Ước mơ của muội là trở thành nữ kiếm khách số một thiên hạ!',
    }),
    emotion: 'proud',
    vocabulary: [
      { hanzi: '梦想', vi: 'ước mơ' },
      { hanzi: '天下第一', vi: 'số một thiên hạ' },
    ],
  }),
  entry({
    id: 'weekend',
    triggers: /周末|放假|休息日|cuối tuần|nghỉ lễ|weekend|holiday/i,
    reply: () => ({ zh: '周末我们下山去买糖葫芦吧！', vi: 'Cuối tuần chúng ta xuống núi mua kẹo hồ lô nhé!' }),
    emotion: 'excited',
    vocabulary: [
      { hanzi: '周末', vi: 'cuối tuần' },
      { hanzi: '买', vi: 'mua' },
    ],
  }),
  entry({
    id: 'money',
    triggers: /多少钱|钱|便宜|贵|bao nhiêu tiền|tiền|đắt|rẻ|how much|money/i,
    reply: () => ({ zh: '一串糖葫芦两块钱，不贵！', vi: 'Một xiên kẹo hồ lô hai đồng, không đắt!' }),
    emotion: 'teasing',
    vocabulary: [
      { hanzi: '块', vi: 'đồng (tiền)' },
      { hanzi: '贵', vi: 'đắt' },
    ],
  }),
  entry({
    id: 'happy',
    triggers: /开心|高兴|快乐|vui|hạnh phúc|happy/i,
    reply: (to) => ({ zh: `${to.zh}开心，我也开心！`, vi: `${to.vi} vui thì muội cũng vui!` }),
    emotion: 'excited',
    vocabulary: [
      { hanzi: '开心', vi: 'vui vẻ' },
      { hanzi: '也', vi: 'cũng' },
    ],
  }),
  entry({
    id: 'sad',
    triggers: /难过|伤心|不开心|buồn|sad/i,
    reply: (to) => ({
      zh: `${to.zh}别难过，我给你唱首歌吧。`,
      vi: `${to.vi} đừng buồn, muội hát cho huynh một bài nhé.`,
    }),
    emotion: 'concerned',
    vocabulary: [
      { hanzi: '难过', vi: 'buồn' },
      { hanzi: '唱歌', vi: 'hát' },
    ],
  }),
  entry({
    id: 'miss-you',
    triggers: /想你|想我吗|nhớ (em|muội)|miss you/i,
    reply: (to) => ({
      zh: `哼，谁想${to.zh}了……好吧，有一点点。`,
      vi: `Hừ, ai thèm nhớ ${to.vi} chứ… thôi được, có một chút xíu.`,
    }),
    emotion: 'shy',
    vocabulary: [
      { hanzi: '想', vi: 'nhớ, muốn' },
      { hanzi: '一点点', vi: 'một chút xíu' },
    ],
  }),
  entry({
    id: 'compliment',
    triggers: /你真好|你很可爱|你真漂亮|好可爱|dễ thương|xinh|cute|pretty/i,
    reply: (to) => ({
      zh: `${to.zh}又在说好听的话了……我会不好意思的。`,
      vi: `${to.vi} lại nói lời ngọt ngào rồi… muội sẽ ngại đấy.`,
    }),
    emotion: 'shy',
    vocabulary: [
      { hanzi: '可爱', vi: 'đáng yêu' },
      { hanzi: '不好意思', vi: 'ngại, xấu hổ' },
    ],
  }),
  entry({
    id: 'yes-no',
    triggers: /^(好|好的|行|可以|是的|对|ok|okay|vâng|được|ừ)[。！!.]*$/i,
    reply: (to) => ({
      zh: `好！那${to.zh}跟我说：“我今天很高兴。”`,
      vi: `Được! Vậy ${to.vi} nói theo muội: “Hôm nay tôi rất vui.”`,
    }),
    emotion: 'happy',
    action: 'encourage',
    vocabulary: [
      { hanzi: '高兴', vi: 'vui' },
      { hanzi: '今天', vi: 'hôm nay' },
    ],
  }),
];
